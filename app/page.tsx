export default function HomePage() {
  return (
    <main>
      <h1>Wallet Login</h1>
      <p>
        Sign in by scanning a QR code with your phone wallet. The login widget arrives here next; the protocol is served
        under <code>/api</code> and <code>/socket.io</code>.
      </p>
    </main>
  );
}
