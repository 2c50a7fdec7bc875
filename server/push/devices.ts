/** Paired devices and security events in the database (docs/protocol.md section 5). */
import type { DeviceView, SecurityEventView } from "../../lib/protocol/push";
import type { Db } from "../db/client";

export interface DeviceRecord {
  id: string;
  userId: string;
  address: string;
  name: string;
  createdAt: Date;
  lastSeenAt: Date | null;
  revokedAt: Date | null;
  mutedUntil: Date | null;
}

export function toDeviceView(d: DeviceRecord): DeviceView {
  return {
    id: d.id,
    address: d.address,
    name: d.name,
    createdAt: d.createdAt.toISOString(),
    lastSeenAt: d.lastSeenAt ? d.lastSeenAt.toISOString() : null,
  };
}

/** Pairs a device for `address` (EIP-55), creating its user if needed; null when the user has `max` already. */
export async function pairDevice(
  db: Db,
  input: { address: string; name: string; max: number },
): Promise<DeviceRecord | null> {
  const user = await db.user.upsert({
    where: { address: input.address },
    create: { address: input.address, claims: {} },
    update: {},
  });
  return db.$transaction(async (tx) => {
    const count = await tx.device.count({ where: { userId: user.id, revokedAt: null } });
    if (count >= input.max) return null;
    return tx.device.create({ data: { userId: user.id, address: input.address, name: input.name } });
  });
}

export function findDevice(db: Db, id: string): Promise<DeviceRecord | null> {
  return db.device.findUnique({ where: { id } });
}

export function listDevices(db: Db, userId: string): Promise<DeviceRecord[]> {
  return db.device.findMany({ where: { userId, revokedAt: null }, orderBy: { createdAt: "desc" }, take: 100 });
}

/** Devices that should get a push for `address` now: paired, not unpaired, not muted. */
export function findPushTargets(db: Db, address: string, now: Date): Promise<DeviceRecord[]> {
  return db.device.findMany({
    where: { address, revokedAt: null, OR: [{ mutedUntil: null }, { mutedUntil: { lte: now } }] },
    take: 100,
  });
}

export async function renameDevice(db: Db, userId: string, id: string, name: string): Promise<DeviceRecord | null> {
  const updated = await db.device.updateMany({ where: { id, userId, revokedAt: null }, data: { name } });
  return updated.count === 1 ? findDevice(db, id) : null;
}

export async function revokeDevice(db: Db, userId: string, id: string): Promise<boolean> {
  const updated = await db.device.updateMany({
    where: { id, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return updated.count === 1;
}

export async function touchDevice(db: Db, id: string): Promise<void> {
  await db.device.update({ where: { id }, data: { lastSeenAt: new Date() } });
}

export async function muteDevice(db: Db, id: string, until: Date): Promise<void> {
  await db.device.update({ where: { id }, data: { mutedUntil: until } });
}

export async function recordSecurityEvent(
  db: Db,
  event: {
    userId: string;
    kind: string;
    deviceId?: string;
    sessionId?: string;
    ip?: string | null;
    userAgent?: string | null;
  },
): Promise<void> {
  await db.securityEvent.create({
    data: {
      userId: event.userId,
      kind: event.kind,
      deviceId: event.deviceId ?? null,
      sessionId: event.sessionId ?? null,
      ip: event.ip ?? null,
      userAgent: event.userAgent ?? null,
    },
  });
}

export async function listSecurityEvents(db: Db, userId: string): Promise<SecurityEventView[]> {
  const rows = await db.securityEvent.findMany({ where: { userId }, orderBy: { createdAt: "desc" }, take: 50 });
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    deviceId: r.deviceId,
    sessionId: r.sessionId,
    ip: r.ip,
    userAgent: r.userAgent,
    createdAt: r.createdAt.toISOString(),
  }));
}
