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
} from "./wallet-login";
export type { ApproveLoginInput, WalletFetchOptions } from "./wallet-login";
export { presentRequiredClaims } from "./wallet-claims";
export type { PresentClaimsInput } from "./wallet-claims";
export { checkPushRequest, createPushApproval, signDeviceChallenge, signPairingChallenge } from "./push";
export { connectDevice, domainOf, pairDevice } from "./push-device";
export type { ConnectDeviceOptions, DeviceConnection, DeviceStatus, PairDeviceInput } from "./push-device";
