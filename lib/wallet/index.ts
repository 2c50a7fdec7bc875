export { WalletError } from "./wallet-error";
export { createWalletKey, importWalletKey } from "./wallet-key";
export type { WalletKey } from "./wallet-key";
export {
  approveLogin,
  buildLoginMessage,
  createAuthBody,
  denyLogin,
  fetchLoginRequest,
  parseLoginQr,
  readTypedMatchCode,
} from "./wallet-login";
export type { ApproveLoginInput, WalletFetchOptions } from "./wallet-login";
export { presentRequiredClaims } from "./wallet-claims";
export type { PresentClaimsInput } from "./wallet-claims";
export { checkPushRequest, createPushApproval, signDeviceChallenge, signPairingChallenge } from "./push";
export { connectDevice, domainOf, pairDevice } from "./push-device";
export { describePushClosed } from "./push-closed";
export type { ConnectDeviceOptions, DeviceConnection, DeviceStatus, PairDeviceInput } from "./push-device";
export { fetchAttestorMetadata, requestCredential, DEFAULT_DELIVERY_TIMEOUT_MS } from "./attestor-client";
export type { ReceivedCredential, RequestCredentialInput } from "./attestor-client";
export { isExpired, pickCredentialFor, readCredentialInfo, readCredentialState } from "./credential-info";
export type { CredentialInfo, CredentialState } from "./credential-info";
