import type { ReactNode } from "react";

export type NoticeTone = "info" | "success" | "warning" | "error";

const ICONS: Record<NoticeTone, string> = { info: "i", success: "✓", warning: "!", error: "✕" };

export interface NoticeProps {
  tone?: NoticeTone;
  /** `alert` interrupts a screen reader; `status` waits its turn. None for static text. */
  role?: "status" | "alert";
  className?: string;
  children: ReactNode;
}

export function Notice({ tone = "info", role, className, children }: NoticeProps) {
  return (
    <div className={["notice", `notice--${tone}`, className].filter(Boolean).join(" ")} role={role}>
      <span className="notice__icon" aria-hidden="true">
        {ICONS[tone]}
      </span>
      <div>{children}</div>
    </div>
  );
}
