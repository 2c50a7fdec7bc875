"use client";
import { useEffect, useRef } from "react";
import type { ReactNode } from "react";
import { QR_LOGIN_CSS, QR_LOGIN_STYLE_HREF } from "./styles";
import { toRootStyle } from "./theme";
import type { QrLoginTheme } from "./theme";

export interface WidgetFrameProps {
  /** The root's `data-state`. */
  status: string;
  mode: "qr" | "push";
  size: number;
  className?: string | undefined;
  theme?: Partial<QrLoginTheme> | undefined;
  children: ReactNode;
}

/** The widget's root and stylesheet, for both modes (its `data-state` and `data-mode` are documented). */
export function WidgetFrame({ status, mode, size, className, theme, children }: WidgetFrameProps) {
  const rootRef = useRef<HTMLDivElement>(null);
  const hadFocus = useRef(false);

  // A state change removes the button that had focus; keep keyboard users in the widget.
  useEffect(() => {
    const root = rootRef.current;
    // The widget itself rather than its next button, so a repeated Enter cannot cancel by accident.
    if (root !== null && hadFocus.current && !root.contains(document.activeElement)) {
      root.focus({ preventScroll: true });
    }
  }, [status]);

  return (
    <div
      ref={rootRef}
      className={className ? `qrl ${className}` : "qrl"}
      data-state={status}
      style={toRootStyle(theme, size)}
      data-mode={mode}
      role="group"
      aria-label="Sign in with your wallet"
      tabIndex={-1}
      onFocus={() => (hadFocus.current = true)}
      onBlur={(event) => {
        // Removing the focused button blurs it without a target; only a move elsewhere counts.
        if (event.relatedTarget !== null && !event.currentTarget.contains(event.relatedTarget)) {
          hadFocus.current = false;
        }
      }}
    >
      <style href={QR_LOGIN_STYLE_HREF} precedence="default">
        {QR_LOGIN_CSS}
      </style>
      {children}
    </div>
  );
}
