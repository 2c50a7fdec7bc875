"use client";

import { useEffect, useRef, useState } from "react";
import { Button } from "../ui/button";

// The Shape Detection API is not in TypeScript's DOM library yet.
interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorInstance {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorClass {
  new (options?: { formats: string[] }): BarcodeDetectorInstance;
  getSupportedFormats?(): Promise<string[]>;
}

function readBarcodeDetector(): BarcodeDetectorClass | undefined {
  return (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
}

/** Whether this browser can read QR codes from a camera: BarcodeDetector with QR support and a camera. */
export async function detectCameraScanning(): Promise<boolean> {
  const Detector = readBarcodeDetector();
  if (!Detector || !navigator.mediaDevices?.getUserMedia || !navigator.mediaDevices.enumerateDevices) return false;
  try {
    const formats = (await Detector.getSupportedFormats?.()) ?? ["qr_code"];
    if (!formats.includes("qr_code")) return false;
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.some((device) => device.kind === "videoinput");
  } catch {
    return false;
  }
}

export interface CameraScannerProps {
  onScan(text: string): void;
  onClose(): void;
}

/** A live camera view that reports the first QR code it reads. */
export function CameraScanner({ onScan, onClose }: CameraScannerProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const onScanRef = useRef(onScan);

  useEffect(() => {
    onScanRef.current = onScan;
  }, [onScan]);

  useEffect(() => {
    const Detector = readBarcodeDetector();
    if (!Detector) return;
    const detector = new Detector({ formats: ["qr_code"] });
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let isStopped = false;

    const scan = async () => {
      const video = videoRef.current;
      if (isStopped || !video) return;
      try {
        const [code] = video.readyState >= 2 ? await detector.detect(video) : [];
        if (code && !isStopped) {
          isStopped = true;
          onScanRef.current(code.rawValue);
          return;
        }
      } catch {
        // A frame that cannot be read yet; the next one may.
      }
      timer = setTimeout(scan, 200);
    };

    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(async (media) => {
        stream = media;
        if (isStopped || !videoRef.current) {
          media.getTracks().forEach((track) => track.stop());
          return;
        }
        videoRef.current.srcObject = media;
        await videoRef.current.play();
        void scan();
      })
      .catch(() => setError("The camera could not be opened. Allow camera access, or paste the QR text instead."));

    return () => {
      isStopped = true;
      clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, []);

  return (
    <div className="stack">
      {error ? (
        <p className="small text-danger" role="alert">
          {error}
        </p>
      ) : (
        <div className="camera">
          <video ref={videoRef} muted playsInline aria-label="Camera view" />
        </div>
      )}
      <div>
        <Button variant="secondary" size="small" onClick={onClose}>
          Stop camera
        </Button>
      </div>
    </div>
  );
}
