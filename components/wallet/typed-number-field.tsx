"use client";

import { useId } from "react";

export interface TypedNumberFieldProps {
  value: string;
  disabled: boolean;
  onChange(value: string): void;
  /** Ends the hint: what a wrong number ends ("this login", "this sign-in"). */
  what: string;
}

/** The textbox "Number shown on the sign-in page" of the `type` match mode (QR or push). */
export function TypedNumberField({ value, disabled, onChange, what }: TypedNumberFieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={`${id}-number`}>Number shown on the sign-in page</label>
      <input
        id={`${id}-number`}
        className="input mono"
        name="matchCode"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={2}
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(event.target.value)}
        aria-describedby={`${id}-hint`}
      />
      <p className="field__hint" id={`${id}-hint`}>
        Type the two digits the sign-in page shows. A wrong number ends {what}.
      </p>
    </div>
  );
}
