"use client";

import type { CreateAppResponse } from "../../lib/protocol/data";
import { Button } from "../ui/button";
import { CopyButton } from "../ui/copy-button";
import { Notice } from "../ui/notice";
import styles from "./partners.module.css";

/**
 * What a new app needs on the partner's server. A generated private key is shown here
 * once: it lives in this component's props only and is gone when dismissed.
 */
export function NewAppSecret({ created, onDismiss }: { created: CreateAppResponse; onDismiss(): void }) {
  const { app, privateKey } = created;
  return (
    <div className={styles.secret} data-testid="new-app">
      {privateKey !== undefined ? (
        <Notice tone="warning" role="alert">
          <p>
            <strong>Save the private key now.</strong> It is shown this once and is not stored anywhere; if it is lost,
            register a new app. Keep it on the partner&apos;s server only.
          </p>
        </Notice>
      ) : (
        <Notice tone="success" role="status">
          <p>
            <strong>App registered.</strong> Requests must be signed with the key of {app.address}.
          </p>
        </Notice>
      )}
      <dl className="details-list">
        <dt>App id</dt>
        <dd>
          <div className="copyable">
            <span className="address" data-testid="new-app-id">
              {app.id}
            </span>
            <CopyButton value={app.id} label="Copy app id" />
          </div>
        </dd>
        <dt>Address</dt>
        <dd>
          <span className="address">{app.address}</span>
        </dd>
        {privateKey !== undefined && (
          <>
            <dt>Private key</dt>
            <dd>
              <div className="copyable">
                <span className="address" data-testid="new-app-private-key">
                  {privateKey}
                </span>
                <CopyButton value={privateKey} label="Copy private key" />
              </div>
            </dd>
          </>
        )}
      </dl>
      <pre className="code-sample">
        <code>{`import { createDataClient } from "wallet-login/lib/sdk/data-client";

const client = createDataClient({
  endpoint: "${typeof window === "undefined" ? "" : window.location.origin}",
  appId: "${app.id}",
  privateKey: process.env.PARTNER_PRIVATE_KEY,
});
const { data, meta } = await client.fetch("users", { limit: 20, page: 1 });`}</code>
      </pre>
      <div>
        <Button variant="secondary" onClick={onDismiss}>
          {privateKey !== undefined ? "I have saved the key" : "Done"}
        </Button>
      </div>
    </div>
  );
}
