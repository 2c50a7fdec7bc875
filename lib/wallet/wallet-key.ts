import { Wallet, hexlify, randomBytes } from "ethers";
import { WalletError } from "./wallet-error";

/** A secp256k1 key that signs like a phone wallet does (EIP-191 `personal_sign`). */
export interface WalletKey {
  /** EIP-55 checksummed. */
  address: string;
  /** 0x-prefixed, 32 bytes. */
  privateKey: string;
  signMessage(text: string): Promise<string>;
}

export function createWalletKey(): WalletKey {
  // Not Wallet.createRandom(): it derives a mnemonic and an HD path we never use,
  // which costs a PBKDF2 run per key.
  return toWalletKey(new Wallet(hexlify(randomBytes(32))));
}

export function importWalletKey(privateKeyHex: string): WalletKey {
  const hex = privateKeyHex.trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex)) {
    throw new WalletError("invalid_key", "A private key is 32 bytes of hex (64 characters, 0x optional).");
  }
  try {
    return toWalletKey(new Wallet(hex.startsWith("0x") ? hex : `0x${hex}`));
  } catch (cause) {
    throw new WalletError("invalid_key", "This is not a valid secp256k1 private key.", undefined, { cause });
  }
}

function toWalletKey(wallet: Wallet): WalletKey {
  return {
    address: wallet.address,
    privateKey: wallet.privateKey,
    signMessage: (text) => wallet.signMessage(text),
  };
}
