-- CreateTable
CREATE TABLE "Attestor" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "publicJwk" JSONB NOT NULL,
    "kid" TEXT NOT NULL,
    "previousKeys" JSONB NOT NULL DEFAULT '[]',
    "trusted" BOOLEAN NOT NULL DEFAULT false,
    "hosted" BOOLEAN NOT NULL DEFAULT false,
    "statusListSize" INTEGER NOT NULL DEFAULT 65536,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "keyRotatedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Attestor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IssuedCredential" (
    "id" TEXT NOT NULL,
    "attestorId" TEXT NOT NULL,
    "statusIndex" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'valid',
    "holderAddress" TEXT,
    "vct" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "statusChangedAt" TIMESTAMP(3),

    CONSTRAINT "IssuedCredential_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Attestor_issuer_key" ON "Attestor"("issuer");

-- CreateIndex
CREATE INDEX "IssuedCredential_attestorId_status_idx" ON "IssuedCredential"("attestorId", "status");

-- CreateIndex
CREATE INDEX "IssuedCredential_holderAddress_idx" ON "IssuedCredential"("holderAddress");

-- CreateIndex
CREATE UNIQUE INDEX "IssuedCredential_attestorId_statusIndex_key" ON "IssuedCredential"("attestorId", "statusIndex");

-- AddForeignKey
ALTER TABLE "IssuedCredential" ADD CONSTRAINT "IssuedCredential_attestorId_fkey" FOREIGN KEY ("attestorId") REFERENCES "Attestor"("id") ON DELETE CASCADE ON UPDATE CASCADE;
