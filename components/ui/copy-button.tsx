"use client";

import { useEffect, useState } from "react";
import { Button } from "./button";

export interface CopyButtonProps {
  value: string;
  /** What is copied, for the button's accessible name: "Copy address". */
  label?: string;
}

/** Copies `value` to the clipboard and says so for two seconds. */
export function CopyButton({ value, label = "Copy" }: CopyButtonProps) {
  const [status, setStatus] = useState<"idle" | "copied" | "failed">("idle");

  useEffect(() => {
    if (status === "idle") return;
    const timer = setTimeout(() => setStatus("idle"), 2000);
    return () => clearTimeout(timer);
  }, [status]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setStatus("copied");
    } catch {
      setStatus("failed");
    }
  }

  return (
    <>
      <Button variant="secondary" size="small" onClick={copy}>
        {status === "copied" ? "Copied" : label}
      </Button>
      <span className="visually-hidden" role="status">
        {status === "copied" ? "Copied to the clipboard" : status === "failed" ? "Could not copy" : ""}
      </span>
    </>
  );
}
