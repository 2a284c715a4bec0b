import type { ComponentChildren } from 'preact';
import { Link } from './Link';

export interface Tab {
  key: string;
  label: ComponentChildren;
  href: string;
}

/** Filter tabs as links, so each filter has a URL and the back button steps through them. */
export function Tabs({ label, tabs, active }: { label: string; tabs: Tab[]; active: string }) {
  return (
    <nav class="tabs" aria-label={label}>
      <span class="tabs-label">{label}</span>
      {tabs.map((tab) => (
        <Link
          key={tab.key}
          href={tab.href}
          class={tab.key === active ? 'tab active' : 'tab'}
          aria-current={tab.key === active ? 'page' : undefined}
        >
          {tab.label}
        </Link>
      ))}
    </nav>
  );
}
