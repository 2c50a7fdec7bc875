/**
 * The embeddable QR-login widget: the one public entry. Works in any React 19 app
 * (nothing here depends on Next.js); `QrLogin` is a client component.
 */
export { QrLogin } from "./QrLogin";
export type { QrLoginProps } from "./QrLogin";
export type { QrLoginTheme } from "./theme";
export { createQrLoginStore, isCancellableStatus, isOpenStatus, isRestartableStatus, selectRemainingMs } from "./store";
export type {
  QrLoginActions,
  QrLoginError,
  QrLoginResult,
  QrLoginState,
  QrLoginStatus,
  QrLoginStore,
  QrLoginStoreDeps,
  QrLoginStoreState,
} from "./store";
export { describeError, describeReason } from "./messages";
