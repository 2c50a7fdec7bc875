/** A colourful disc drawn from the address, so two keys are told apart at a glance. */
export function AddressAvatar({ address }: { address: string }) {
  const hex = address.replace(/^0x/i, "").toLowerCase().padEnd(40, "0");
  const first = `#${hex.slice(0, 6)}`;
  const second = `#${hex.slice(6, 12)}`;
  const angle = (parseInt(hex.slice(12, 14), 16) / 255) * 360;
  return (
    <span
      className="wallet-key__avatar"
      aria-hidden="true"
      style={{ background: `linear-gradient(${Math.round(angle)}deg, ${first}, ${second})` }}
    />
  );
}
