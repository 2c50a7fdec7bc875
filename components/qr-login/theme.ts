import type { CSSProperties } from "react";

/**
 * Colours and shape of the widget. Each key is also a CSS custom property, the key in
 * kebab case after `--qrl-` (`accent` is `--qrl-accent`, `onAccent` `--qrl-on-accent`),
 * which integrators may set from their own CSS on the widget or any ancestor; unset
 * ones fall back to light or dark defaults by `prefers-color-scheme`.
 */
export interface QrLoginTheme {
  /** Text. */
  fg: string;
  /** Widget background. */
  bg: string;
  /** Primary button, match code, focus ring. */
  accent: string;
  /** Text on the accent colour. */
  onAccent: string;
  /** Secondary text such as the countdown. */
  muted: string;
  danger: string;
  success: string;
  /** A CSS length. */
  radius: string;
  /** A CSS font-family list. */
  font: string;
  /** QR modules; keep them dark on a light tile, which every scanner reads. */
  qrFg: string;
  qrBg: string;
}

/** The inline custom properties for a `theme` prop: `onAccent: "#fff"` becomes `--qrl-on-accent: #fff`. */
export function toThemeStyle(theme: Partial<QrLoginTheme> | undefined): Record<string, string> {
  const style: Record<string, string> = {};
  for (const [key, value] of Object.entries(theme ?? {})) {
    if (typeof value === "string" && value !== "") style[`--qrl-${key.replace(/[A-Z]/g, "-$&").toLowerCase()}`] = value;
  }
  return style;
}

export function toRootStyle(theme: Partial<QrLoginTheme> | undefined, size: number): CSSProperties {
  return { ...toThemeStyle(theme), "--qrl-size": `${size}px` } as CSSProperties;
}
