import fs from 'node:fs';
import path from 'node:path';

/** A FluxLoop project: a folder holding configs/simulation.yaml. */
export interface Project {
  /** Shown as the project's node when the workspace has several. */
  name: string;
  root: string;
  /** The workspace folder it is in. */
  folder: string;
}

export interface Folder {
  name: string;
  path: string;
  /** The `fluxloop.projectRoot` setting of the folder: a path relative to it, or ''. */
  projectRoot: string;
}

export interface Disk {
  exists(file: string): boolean;
  subfolders(dir: string): string[];
}

const nodeDisk: Disk = {
  exists: fs.existsSync,
  subfolders(dir) {
    try {
      return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  },
};

export const CONFIG_FILE = path.join('configs', 'simulation.yaml');

export function configFileOf(project: Project): string {
  return path.join(project.root, CONFIG_FILE);
}

/**
 * The projects of the workspace folders: the folder `fluxloop.projectRoot` names; else the folder
 * itself when it holds configs/simulation.yaml; else each of its subfolders that does (the depth
 * the `workspaceContains:*\/configs/simulation.yaml` activation sees).
 */
export function findProjects(folders: readonly Folder[], disk: Disk = nodeDisk): Project[] {
  const projects: Project[] = [];
  const add = (folder: Folder, root: string) => {
    const relative = path.relative(folder.path, root).split(path.sep).join('/');
    projects.push({ name: relative === '' ? folder.name : `${folder.name}/${relative}`, root, folder: folder.path });
  };
  for (const folder of folders) {
    const isProject = (dir: string) => disk.exists(path.join(dir, CONFIG_FILE));
    if (folder.projectRoot.trim() !== '') {
      const root = path.resolve(folder.path, folder.projectRoot.trim());
      if (isProject(root)) add(folder, root);
    } else if (isProject(folder.path)) {
      add(folder, folder.path);
    } else {
      for (const sub of disk.subfolders(folder.path).sort()) {
        if (sub === 'node_modules' || sub.startsWith('.')) continue;
        if (isProject(path.join(folder.path, sub))) add(folder, path.join(folder.path, sub));
      }
    }
  }
  return projects;
}

/** The project a file is in: the innermost one holding it. */
export function projectOfFile(projects: readonly Project[], file: string): Project | undefined {
  const inside = projects.filter((p) => {
    const relative = path.relative(p.root, file);
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  });
  return inside.sort((a, b) => b.root.length - a.root.length)[0];
}
