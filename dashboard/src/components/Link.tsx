import type { ComponentChildren, JSX } from 'preact';
import { useStore } from '../state/store';

type LinkProps = Omit<JSX.AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & {
  href: string;
  children?: ComponentChildren;
};

/** An in-app link: a real href (open in new tab, copy link), navigated without a reload. */
export function Link({ href, children, ...rest }: LinkProps) {
  const { router } = useStore();
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    router.navigate(href);
  };
  return (
    <a {...rest} href={href} onClick={onClick}>
      {children}
    </a>
  );
}
