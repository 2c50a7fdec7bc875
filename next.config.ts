import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native and server-only packages stay outside Next's bundles.
  serverExternalPackages: ["better-sqlite3", "secp256k1", "@prisma/client", "pino", "ioredis", "socket.io"],
};

export default nextConfig;
