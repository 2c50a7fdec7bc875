import { describe, expect, it } from "vitest";
import { WalletError } from "../../lib/wallet/wallet-error";
import { describeError } from "./describe-error";

describe("describeError", () => {
  it("treats a server's code named like an Object.prototype property as unknown", () => {
    for (const code of ["constructor", "toString", "__proto__"]) {
      const described = describeError(new WalletError(code, "the server's own words"));
      expect(described).toEqual({ code, title: "Something went wrong", text: "the server's own words" });
    }
  });
});
