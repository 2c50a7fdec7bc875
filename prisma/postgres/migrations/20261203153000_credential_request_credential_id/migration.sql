-- AlterTable
ALTER TABLE "CredentialRequest" ADD COLUMN "credentialId" TEXT;
