-- CreateTable
CREATE TABLE "CredentialRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "address" TEXT NOT NULL,
    "holderJwk" JSONB NOT NULL,
    "deliveryJwk" JSONB NOT NULL,
    "claims" JSONB NOT NULL,
    "email" TEXT,
    "status" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" DATETIME,
    "decidedBy" TEXT
);

-- CreateIndex
CREATE INDEX "CredentialRequest_status_createdAt_idx" ON "CredentialRequest"("status", "createdAt");
