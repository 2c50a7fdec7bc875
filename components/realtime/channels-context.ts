"use client";

import { createContext } from "react";
import type { ChannelsClient } from "../../lib/sdk/channels-client";

/** The provider's client once its socket is opened; null before that (and during SSR). */
export const ChannelsClientContext = createContext<ChannelsClient | null | undefined>(undefined);
