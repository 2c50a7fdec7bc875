import Link from "next/link";
import type { ButtonHTMLAttributes, ComponentProps } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger" | "ghost";

interface ButtonLookProps {
  variant?: ButtonVariant;
  size?: "normal" | "small";
  isBlock?: boolean;
}

function buttonClassName({ variant = "primary", size = "normal", isBlock = false }: ButtonLookProps, extra?: string) {
  return ["button", `button--${variant}`, size === "small" && "button--small", isBlock && "button--block", extra]
    .filter(Boolean)
    .join(" ");
}

export type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & ButtonLookProps;

export function Button({ variant, size, isBlock, className, type = "button", ...rest }: ButtonProps) {
  return <button type={type} className={buttonClassName({ variant, size, isBlock }, className)} {...rest} />;
}

export type ButtonLinkProps = ComponentProps<typeof Link> & ButtonLookProps;

/** A link that looks like a button (navigation, not an action). */
export function ButtonLink({ variant, size, isBlock, className, ...rest }: ButtonLinkProps) {
  return <Link className={buttonClassName({ variant, size, isBlock }, className)} {...rest} />;
}
