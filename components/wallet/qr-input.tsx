"use client";

import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent } from "react";
import { Button } from "../ui/button";
import { Spinner } from "../ui/spinner";
import { CameraScanner, detectCameraScanning } from "./camera-scanner";

export interface QrInputProps {
  isBusy: boolean;
  onSubmit(qrText: string): void;
}

/** Where the simulator "scans": paste the QR text, or read it with the camera where the browser can. */
export function QrInput({ isBusy, onSubmit }: QrInputProps) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [canUseCamera, setCanUseCamera] = useState(false);
  const [isCameraOpen, setIsCameraOpen] = useState(false);

  useEffect(() => {
    let isCurrent = true;
    void detectCameraScanning().then((isAvailable) => {
      if (isCurrent) setCanUseCamera(isAvailable);
    });
    return () => {
      isCurrent = false;
    };
  }, []);

  // Read from the form, not from state: text typed or pasted before hydration counts too.
  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget).get("request") ?? "").trim();
    if (text !== "") onSubmit(text);
  }

  return (
    <section className="phone__section" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Scan a login code</h2>
      {/* Without JavaScript yet, the form still lands on /wallet?request=…, which opens it. */}
      <form className="stack" action="/wallet" method="get" onSubmit={handleSubmit}>
        <div className="field">
          <label htmlFor={`${id}-qr`}>QR text</label>
          <input
            id={`${id}-qr`}
            className="input mono"
            name="request"
            ref={inputRef}
            required
            placeholder="http://…/api/login/requests/…"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            inputMode="url"
            aria-describedby={`${id}-hint`}
          />
          <p id={`${id}-hint`} className="field__hint">
            On the sign-in page, press Copy link under the QR code, then paste it here.
          </p>
        </div>
        <div className="row">
          <Button type="submit" disabled={isBusy}>
            {isBusy && <Spinner />}
            Open login request
          </Button>
          {canUseCamera && !isCameraOpen && (
            <Button variant="secondary" onClick={() => setIsCameraOpen(true)} disabled={isBusy}>
              Scan with camera
            </Button>
          )}
        </div>
      </form>
      {isCameraOpen && (
        <div style={{ marginTop: "1rem" }}>
          <CameraScanner
            onScan={(scanned) => {
              setIsCameraOpen(false);
              if (inputRef.current) inputRef.current.value = scanned;
              onSubmit(scanned);
            }}
            onClose={() => setIsCameraOpen(false)}
          />
        </div>
      )}
    </section>
  );
}
