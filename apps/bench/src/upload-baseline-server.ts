// The physical limit for uploads: a bare Node HTTP server that streams each request's body into a
// new file on disk - no authentication, no size meter, no type sniffing, no database row. What is
// left is what the disk and Node's streams do. Run as its own process
// (`node --import tsx src/upload-baseline-server.ts`, PORT, HOST and UPLOAD_DIR from the
// environment); it prints the same "listening" line as Parley so the bench starts both the same way.
//
// POST /upload with the raw file as the body -> 201 {"size": <bytes written>}
import { mkdirSync, createWriteStream } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve as resolvePath } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

export interface UploadBaselineServer {
  url: string;
  close(): Promise<void>;
}

export async function startUploadBaselineServer(port: number, host: string, dir: string): Promise<UploadBaselineServer> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let nextFile = 1;
  const http = createServer((req, res) => {
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/upload") {
      res.writeHead(404).end();
      return;
    }
    const file = createWriteStream(join(dir, `upload-${nextFile++}.bin`), { flags: "wx", mode: 0o600 });
    pipeline(req, file).then(
      () => {
        res.writeHead(201, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ size: file.bytesWritten }));
      },
      () => {
        if (!res.headersSent) res.writeHead(500, { Connection: "close" });
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => http.listen(port, host, resolve));
  const address = http.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolvePath(process.argv[1]);
if (isEntryPoint) {
  const dir = process.env.UPLOAD_DIR;
  if (!dir) throw new Error("UPLOAD_DIR must name the folder uploads are written to");
  const server = await startUploadBaselineServer(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", dir);
  console.log(JSON.stringify({ msg: "listening", url: server.url }));
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
