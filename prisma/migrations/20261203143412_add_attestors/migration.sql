-- CreateTable
CREATE TABLE "Attestor" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "publicJwk" JSONB NOT NULL,
    "kid" TEXT NOT NULL,
    "previousKeys" JSONB NOT NULL DEFAULT [],
    "trusted" BOOLEAN NOT NULL DEFAULT false,
    "hosted" BOOLEAN NOT NULL DEFAULT false,
    "statusListSize" INTEGER NOT NULL DEFAULT 65536,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "keyRotatedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "IssuedCredential" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "attestorId" TEXT NOT NULL,
    "statusIndex" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'valid',
    "holderAddress" TEXT,
    "vct" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" DATETIME,
    "statusChangedAt" DATETIME,
    CONSTRAINT "IssuedCredential_attestorId_fkey" FOREIGN KEY ("attestorId") REFERENCES "Attestor" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Attestor_issuer_key" ON "Attestor"("issuer");

-- CreateIndex
CREATE INDEX "IssuedCredential_attestorId_status_idx" ON "IssuedCredential"("attestorId", "status");

-- CreateIndex
CREATE INDEX "IssuedCredential_holderAddress_idx" ON "IssuedCredential"("holderAddress");

-- CreateIndex
CREATE UNIQUE INDEX "IssuedCredential_attestorId_statusIndex_key" ON "IssuedCredential"("attestorId", "statusIndex");
