/**
 * The widget's whole stylesheet, rendered by the component as one React 19 hoisted
 * `<style href precedence>` (deduplicated per document) so it needs no CSS loader.
 * Public `--qrl-*` properties are read through private `--_*` ones, so a value the
 * integrator sets on the widget or any ancestor wins over both light and dark defaults.
 * The QR tile stays dark-on-light in dark mode: not every scanner reads inverted codes.
 */
export const QR_LOGIN_STYLE_HREF = "qr-login-widget";

export const QR_LOGIN_CSS = `.qrl{--_fg:var(--qrl-fg,#111827);--_bg:var(--qrl-bg,#fff);--_ac:var(--qrl-accent,#4338ca);--_on:var(--qrl-on-accent,#fff);--_mu:var(--qrl-muted,#4b5563);--_no:var(--qrl-danger,#b91c1c);--_ok:var(--qrl-success,#15803d);--_r:var(--qrl-radius,12px);display:flex;flex-direction:column;align-items:center;gap:12px;width:100%;max-width:calc(var(--qrl-size) + 32px);margin:0 auto;padding:16px;color:var(--_fg);background:var(--_bg);border-radius:var(--_r);font:15px/1.4 var(--qrl-font,system-ui,sans-serif);text-align:center}
@media (prefers-color-scheme:dark){.qrl{--_fg:var(--qrl-fg,#f3f4f6);--_bg:var(--qrl-bg,#111827);--_ac:var(--qrl-accent,#a5b4fc);--_on:var(--qrl-on-accent,#111827);--_mu:var(--qrl-muted,#9ca3af);--_no:var(--qrl-danger,#fca5a5);--_ok:var(--qrl-success,#86efac)}}
.qrl,.qrl *{box-sizing:border-box}
.qrl:focus{outline:0}
.qrl p{margin:0}
.qrl-code{width:100%;max-width:var(--qrl-size);padding:8px;border-radius:calc(var(--_r)*.66)}
.qrl-code[data-qr]{background:var(--qrl-qr-bg,#fff);color:var(--qrl-qr-fg,#000)}
.qrl-code svg{display:block;width:100%;height:auto}
.qrl[data-state=scanned] .qrl-code,.qrl[data-state=offline] .qrl-code{opacity:.2}
.qrl-ph{display:grid;place-items:center;aspect-ratio:1;font-size:56px;color:var(--_mu);border:1px dashed;border-radius:calc(var(--_r)*.5)}
.qrl[data-state=signed-in] .qrl-ph{color:var(--_ok)}
.qrl-status{min-height:2.8em;overflow-wrap:anywhere}
.qrl-title{font-weight:600}
.qrl-match{display:block;font-size:48px;font-weight:700;line-height:1.2;letter-spacing:.08em;color:var(--_ac)}
.qrl-problem{color:var(--_no)}
.qrl-countdown{font-size:13px;color:var(--_mu);font-variant-numeric:tabular-nums}
.qrl-actions{display:flex;flex-wrap:wrap;justify-content:center;gap:8px}
.qrl-button{display:inline-flex;align-items:center;min-height:44px;padding:0 16px;font:inherit;font-size:14px;font-weight:500;color:inherit;text-decoration:none;background:none;border:1px solid var(--_mu);border-radius:calc(var(--_r)*.66);cursor:pointer}
.qrl-button:focus-visible{outline:3px solid var(--_ac);outline-offset:2px}
.qrl-primary{color:var(--_on);background:var(--_ac);border-color:var(--_ac)}
@media (pointer:fine){.qrl-open{min-height:0;padding:4px 8px;color:var(--_ac);text-decoration:underline;background:none;border-color:transparent}}
.qrl-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}`;
