import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { FileSystem, OpenMode, StorageFile } from './file-system';

const FLAGS: Record<OpenMode, number> = {
  read: constants.O_RDONLY,
  readWrite: constants.O_RDWR,
  readWriteCreate: constants.O_RDWR | constants.O_CREAT,
  createEmpty: constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC,
  writeDsync: constants.O_WRONLY | constants.O_DSYNC,
};

/** `FileSystem` on Node's `fs/promises`: the production default. Handles are Node's `FileHandle`s as they are. */
export class NodeFileSystem implements FileSystem {
  open(path: string, mode: OpenMode): Promise<StorageFile> {
    return open(path, FLAGS[mode]);
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  readdir(path: string): Promise<string[]> {
    return readdir(path);
  }

  mkdir(path: string): Promise<string | undefined> {
    return mkdir(path, { recursive: true });
  }

  rename(from: string, to: string): Promise<void> {
    return rename(from, to);
  }

  remove(path: string): Promise<void> {
    return rm(path, { recursive: true, force: true });
  }

  async syncDir(path: string): Promise<void> {
    const handle = await open(path, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
