import type { HTMLAttributes, ReactNode } from "react";

export interface CardProps extends Omit<HTMLAttributes<HTMLElement>, "title"> {
  title?: ReactNode;
  /** Id for the title, so the section is named by it. */
  titleId?: string;
}

export function Card({ title, titleId, className, children, ...rest }: CardProps) {
  return (
    <section
      className={["card", className].filter(Boolean).join(" ")}
      aria-labelledby={title !== undefined ? titleId : undefined}
      {...rest}
    >
      {title !== undefined && (
        <h2 className="card__title" id={titleId}>
          {title}
        </h2>
      )}
      {children}
    </section>
  );
}
