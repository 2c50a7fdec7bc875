export function SiteFooter() {
  return (
    <footer className="site-footer">
      <div className="site-footer__inner">
        <p>Wallet Login — an open-source reference app for signing in with a phone wallet.</p>
        <p>
          Sign-In with Ethereum (
          <a href="https://eips.ethereum.org/EIPS/eip-4361" rel="noreferrer">
            EIP-4361
          </a>
          ) · no passwords
        </p>
      </div>
    </footer>
  );
}
