import Link from "next/link";
import { HomeSignIn } from "../components/auth/home-sign-in";

export default function HomePage() {
  return (
    <div className="page home">
      <span className="eyebrow">Passwordless sign-in</span>
      <h1>Wallet Login</h1>
      <p className="lead">
        Sign in by scanning this code with your phone wallet. No password: your wallet signs a one-time challenge
        (EIP-4361) and this page is signed in.
      </p>

      <HomeSignIn />

      <p className="home__simulator">
        No phone? Open the{" "}
        <Link href="/wallet" target="_blank" rel="noopener">
          wallet simulator
        </Link>{" "}
        in a second window, press <strong>Copy link</strong> under the code and paste it there.
      </p>

      <ol className="steps" aria-label="How it works">
        <li>
          <h2>Scan</h2>
          <p>Your wallet reads the code and shows which site is asking.</p>
        </li>
        <li>
          <h2>Match</h2>
          <p>Pick the number this page shows, so nobody else&apos;s code gets signed.</p>
        </li>
        <li>
          <h2>Approve</h2>
          <p>The wallet signs a one-time message; this page signs you in.</p>
        </li>
      </ol>
    </div>
  );
}
