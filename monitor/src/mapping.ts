import type { Logger } from './log';
import { describeError } from './log';

export interface ProjectRef {
  projectId: string;
  /** Set when the project requires `X-Log-Center-Key` on reports (docs/api.md#auth). */
  ingestKey?: string;
}

export interface ProjectMatch extends ProjectRef {
  /** True when the label is the project's `-dev` variant (a development deployment of it). */
  dev: boolean;
}

/**
 * The `app` labels a project answers to: its id with underscores turned into dashes (label values
 * conventionally use dashes), that name's `-dev` variant, and the id itself.
 */
export function appLabelsFor(projectId: string): { label: string; dev: boolean }[] {
  const dashed = projectId.replaceAll('_', '-');
  return [
    { label: dashed, dev: false },
    { label: `${dashed}-dev`, dev: true },
    { label: projectId, dev: false },
  ];
}

/**
 * When two projects claim the same label (`rtc_backend`'s `-dev` variant and a project really called
 * `rtc_backend_dev`), the project named by the label wins over a derived variant.
 */
export function buildAppMap(projects: Iterable<ProjectRef>): Map<string, ProjectMatch> {
  const variants = new Map<string, ProjectMatch>();
  const direct = new Map<string, ProjectMatch>();
  for (const project of projects) {
    for (const { label, dev } of appLabelsFor(project.projectId)) {
      (dev ? variants : direct).set(label, { ...project, dev });
    }
  }
  return new Map([...variants, ...direct]);
}

export interface ProjectSource {
  listProjects(): Promise<ProjectRef[]>;
}

/** The app-label → project mapping, loaded from Log Center and refreshed on an interval. */
export class ProjectDirectory {
  private map: Map<string, ProjectMatch> | undefined;
  private loadedAt = 0;
  private signature = '';

  constructor(
    private readonly source: ProjectSource,
    private readonly refreshMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Reloads the mapping when it is older than the refresh interval. A failed reload keeps the
   * previous mapping (projects are rarely removed, and a stale list beats no reports); it only
   * throws when there has never been one.
   */
  async ensureFresh(): Promise<void> {
    if (this.map && this.now() - this.loadedAt < this.refreshMs) return;
    try {
      const projects = await this.source.listProjects();
      const signature = projects
        .map((p) => p.projectId)
        .sort()
        .join('\n');
      this.map = buildAppMap(projects);
      this.loadedAt = this.now();
      if (signature !== this.signature) {
        this.signature = signature;
        this.logger.info('project mapping loaded', { projects: projects.length, app_labels: this.map.size });
      }
    } catch (error) {
      if (!this.map) throw error;
      // Try again on the next scan rather than waiting a whole refresh interval.
      this.logger.warn('project mapping refresh failed; keeping the previous mapping', {
        error: describeError(error),
      });
    }
  }

  resolve(appLabel: string): ProjectMatch | undefined {
    return this.map?.get(appLabel);
  }
}
