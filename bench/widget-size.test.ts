import { describe, expect, it } from "vitest";
import { WIDGET_GZIP_TARGET_BYTES, measureWidgetSize } from "./widget-size";

describe("the widget's bundle", () => {
  it("push mode is a chunk of its own, loaded by a dynamic import: none of its code is in the QR mode's", async () => {
    const size = await measureWidgetSize();
    const pushOnly = [
      "components/qr-login/push-store.ts",
      "components/qr-login/push-login-view.tsx",
      "components/qr-login/push-login.tsx",
    ];
    for (const file of pushOnly) {
      expect(size.inputs).not.toContain(file);
      expect(size.push.inputs).toContain(file);
    }
    // What both modes use stays in the QR mode's chunks, not copied into the push chunk.
    for (const shared of ["lib/client/login-client.ts", "components/qr-login/client-slot.ts"]) {
      expect(size.inputs).toContain(shared);
      expect(size.push.inputs).not.toContain(shared);
    }
    expect(size.push.files).toHaveLength(1);
    // Issue 16's budget for what every page with the widget loads.
    expect(size.gzipBytes).toBeLessThanOrEqual(WIDGET_GZIP_TARGET_BYTES);
    expect(size.push.gzipBytes).toBeGreaterThan(0);
  });
});
