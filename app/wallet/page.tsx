import type { Metadata } from "next";
import { WalletSimulator } from "../../components/wallet/wallet-simulator";

export const metadata: Metadata = {
  title: "Wallet simulator · Wallet Login",
  description: "A simulated phone wallet for testing the QR and push login.",
  // Installable from a phone's home screen, opening standalone on /wallet (public/).
  manifest: "/manifest.webmanifest",
  appleWebApp: { capable: true, title: "Wallet", statusBarStyle: "default" },
  icons: { apple: "/icons/icon-192.png" },
};

export default async function WalletPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { request } = await searchParams;
  return (
    <div className="page wallet-page">
      <div className="wallet-page__intro">
        <span className="eyebrow">For testing</span>
        <h1>Wallet simulator</h1>
        <p className="lead">
          Plays the phone: a test key that reads the login code, shows what you are about to sign, and signs it. Paired,
          it also gets sign-in requests pushed to it. Keep it open in a second window beside the sign-in page.
        </p>
      </div>
      <WalletSimulator linkedRequest={typeof request === "string" ? request : undefined} />
    </div>
  );
}
