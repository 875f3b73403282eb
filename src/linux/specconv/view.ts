// The config read once for the checks and the conversion alike: its namespaces (new or
// joined) and its mounts with their options parsed.
import type { Spec } from '../../spec/types.js';
import { type MountView, viewMounts } from '../mounts.js';
import { type NamespaceType, namespaceInfo } from '../namespaces.js';

export class Namespaces {
  /** '' for a new namespace, the path for one joined; the last entry of a type wins. */
  private readonly paths = new Map<NamespaceType, string>();
  private readonly indices = new Map<NamespaceType, number>();

  constructor(spec: Spec) {
    (spec.linux?.namespaces ?? []).forEach((ns, i) => {
      namespaceInfo(ns.type, `linux.namespaces[${i}].type`);
      const type = ns.type as NamespaceType;
      this.paths.set(type, ns.path ?? '');
      this.indices.set(type, i);
    });
  }

  /** Asked for at all, new or joined. */
  has(t: NamespaceType): boolean {
    return this.paths.has(t);
  }

  isNew(t: NamespaceType): boolean {
    return this.paths.get(t) === '';
  }

  /** The path of a namespace joined by path, or null. */
  joinedPath(t: NamespaceType): string | null {
    return this.paths.get(t) || null;
  }

  /** linux.namespaces[i] of this type (for error fields). */
  field(t: NamespaceType): string {
    return `linux.namespaces[${this.indices.get(t) ?? -1}]`;
  }
}

export interface SpecView {
  namespaces: Namespaces;
  mounts: readonly MountView[];
}

export function viewSpec(spec: Spec, bundle: string): SpecView {
  return { namespaces: new Namespaces(spec), mounts: viewMounts(spec.mounts, bundle) };
}
