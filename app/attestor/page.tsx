import type { Metadata } from "next";
import { AttestorInfo } from "../../components/attestor/attestor-info";

export const metadata: Metadata = {
  title: "Demo attestor · Wallet Login",
  description: "The demo attestor: claims issued to your wallet as verifiable credentials.",
};

export default function AttestorPage() {
  return <AttestorInfo />;
}
