"use client";

import { createContext } from "react";
import type { SessionStore } from "./session-store";

export const SessionStoreContext = createContext<SessionStore | null>(null);
