"use client";
import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { QrLoginStore, QrLoginStoreState } from "./store";

/** The store of the widget instance around the caller; one per `QrLogin`, never shared. */
export const QrLoginStoreContext = createContext<QrLoginStore | null>(null);

/** For the widget's own parts only, which `QrLoginView` always renders inside its provider. */
export function useQrLoginStore<T>(selector: (state: QrLoginStoreState) => T): T {
  return useStore(useContext(QrLoginStoreContext) as QrLoginStore, selector);
}
