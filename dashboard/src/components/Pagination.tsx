import { useT } from '../state/store';
import { Link } from './Link';

export function Pagination({
  page,
  pageCount,
  total,
  hrefFor,
}: {
  page: number;
  pageCount: number;
  total: number;
  hrefFor: (page: number) => string;
}) {
  const t = useT();
  if (pageCount <= 1) return null;
  return (
    <nav class="pagination" aria-label={t.common.pagination}>
      {page > 1 ? (
        <Link href={hrefFor(page - 1)} rel="prev">
          {t.common.prev}
        </Link>
      ) : (
        <span class="disabled">{t.common.prev}</span>
      )}
      <span>{t.common.pageOf(page, pageCount, total)}</span>
      {page < pageCount ? (
        <Link href={hrefFor(page + 1)} rel="next">
          {t.common.next}
        </Link>
      ) : (
        <span class="disabled">{t.common.next}</span>
      )}
    </nav>
  );
}
