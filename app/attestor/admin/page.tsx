import type { Metadata } from "next";
import { AttestorAdmin } from "../../../components/attestor/attestor-admin";

export const metadata: Metadata = {
  title: "Attestor admin · Wallet Login",
  description: "Approve, refuse and revoke the demo attestor's credentials; trust, distrust and rotate attestors.",
};

export default function AttestorAdminPage() {
  return <AttestorAdmin />;
}
