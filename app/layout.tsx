import type { ReactNode } from "react";
import type { Viewport } from "next";
import { SessionProvider } from "../components/auth/session-provider";
import { SiteFooter } from "../components/ui/site-footer";
import { SiteHeader } from "../components/ui/site-header";
import "./globals.css";

// Every page carries a fresh CSP nonce (server/http/security-headers.ts), which Next puts on its
// inline scripts only when it renders the page for that request: no page is prerendered.
export const dynamic = "force-dynamic";

export const metadata = {
  title: "Wallet Login",
  description: "Sign in by scanning a QR code with your wallet.",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#f6f7fb" },
    { media: "(prefers-color-scheme: dark)", color: "#0d1017" },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SessionProvider>
          <SiteHeader appName="Wallet Login" />
          <main id="main">{children}</main>
          <SiteFooter />
        </SessionProvider>
      </body>
    </html>
  );
}
