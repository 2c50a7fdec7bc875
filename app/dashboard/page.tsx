import type { Metadata } from "next";
import { DashboardView } from "../../components/auth/dashboard-view";

export const metadata: Metadata = {
  title: "Dashboard · Wallet Login",
};

export default function DashboardPage() {
  return <DashboardView />;
}
