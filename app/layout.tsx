import type { ReactNode } from "react";

export const metadata = {
  title: "Wallet Login",
  description: "Sign in by scanning a QR code with your wallet.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
