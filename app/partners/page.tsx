import type { Metadata } from "next";
import { PartnersView } from "../../components/partners/partners-view";

export const metadata: Metadata = {
  title: "Partner apps · Wallet Login",
  description: "Register partner servers that fetch data with signed requests.",
};

export default function PartnersPage() {
  return <PartnersView />;
}
