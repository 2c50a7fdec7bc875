-- CreateTable
CREATE TABLE "CredentialRequest" (
    "id" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "holderJwk" JSONB NOT NULL,
    "deliveryJwk" JSONB NOT NULL,
    "claims" JSONB NOT NULL,
    "email" TEXT,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" TIMESTAMP(3),
    "decidedBy" TEXT,

    CONSTRAINT "CredentialRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "CredentialRequest_status_createdAt_idx" ON "CredentialRequest"("status", "createdAt");
