import { memo, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useRuntime } from "../app/context";
import { useFileUrls } from "../app/use-file-urls";
import { useModalDialog } from "../app/use-modal-dialog";
import { ChevronLeftIcon, ChevronRightIcon, CloseIcon, DownloadIcon, FileIcon } from "./icons";
import { isPicture, previewSize } from "../lib/attachments";
import { formatBytes, type Attachment, type FileUrl } from "@parley/client";

/** A message's files: pictures as previews that open larger, the others as cards with a download link. */
export const Attachments = memo(function Attachments({ attachments }: { attachments: readonly Attachment[] }) {
  const ids = useMemo(() => attachments.map((a) => a.id), [attachments]);
  const urlsOf = useFileUrls(ids);
  const pictures = attachments.filter(isPicture);
  const files = attachments.filter((a) => !isPicture(a));
  const [viewing, setViewing] = useState<number | null>(null);
  if (attachments.length === 0) return null;
  return (
    <div className="attachments">
      {pictures.length > 0 && (
        <div className="attachments__pictures">
          {pictures.map((picture, index) => (
            <Preview key={picture.id} picture={picture} urls={urlsOf(picture.id)} onOpen={() => setViewing(index)} />
          ))}
        </div>
      )}
      {files.map((file) => (
        <FileCard key={file.id} file={file} urls={urlsOf(file.id)} />
      ))}
      <PictureViewer pictures={pictures} index={viewing} urlsOf={urlsOf} onIndex={setViewing} />
    </div>
  );
});

function Preview({ picture, urls, onOpen }: { picture: Attachment & { width: number; height: number }; urls: FileUrl | undefined; onOpen(): void }) {
  const { fileUrls } = useRuntime();
  const size = previewSize(picture.width, picture.height);
  // A URL refused (it expired while the tab slept): asked for again, once per URL.
  const retried = useRef<string | null>(null);
  const src = urls?.thumbnailUrl ?? urls?.url;
  return (
    <button
      type="button"
      className="attachment-picture"
      style={{ width: size.width, aspectRatio: `${picture.width} / ${picture.height}` }}
      onClick={onOpen}
      aria-haspopup="dialog"
      aria-label={`Open picture ${picture.name}`}
    >
      {src && (
        <img
          src={src}
          alt={picture.name}
          width={size.width}
          height={size.height}
          loading="lazy"
          decoding="async"
          onError={() => {
            if (retried.current === src) return;
            retried.current = src;
            fileUrls.forget(picture.id);
            fileUrls.request([picture.id]);
          }}
        />
      )}
    </button>
  );
}

/** What kind of file, in a word, from its type; a type Parley could not tell is named by the file's extension ("TXT file"). */
function kindOf(contentType: string, name: string): string {
  const known = kindOfType(contentType);
  const extension = /\.([a-z0-9]{1,5})$/i.exec(name)?.[1];
  return known === "File" && extension ? `${extension.toUpperCase()} file` : known;
}

function kindOfType(contentType: string): string {
  if (contentType === "application/pdf") return "PDF";
  if (contentType.startsWith("image/")) return "Image";
  if (contentType.startsWith("video/")) return "Video";
  if (contentType.startsWith("audio/")) return "Audio";
  if (contentType.startsWith("text/")) return "Text";
  if (/zip|compressed|tar|gzip/.test(contentType)) return "Archive";
  return "File";
}

function FileCard({ file, urls }: { file: Attachment; urls: FileUrl | undefined }) {
  return (
    <div className="attachment-file" data-attachment-id={file.id}>
      <span className="attachment-file__icon">
        <FileIcon />
      </span>
      <span className="attachment-file__text">
        <span className="attachment-file__name" title={file.name}>
          {file.name}
        </span>
        <span className="attachment-file__meta">
          {kindOf(file.contentType, file.name)} · {formatBytes(file.size)}
        </span>
      </span>
      {urls ? (
        <a className="icon-button attachment-file__download" href={urls.url} download={file.name}>
          <DownloadIcon />
          <span className="sr-only">Download {file.name}</span>
        </a>
      ) : (
        <span className="spinner" aria-hidden="true" />
      )}
    </div>
  );
}

interface PictureViewerProps {
  pictures: readonly (Attachment & { width: number; height: number })[];
  /** The picture shown, or null when closed. */
  index: number | null;
  urlsOf(id: string): FileUrl | undefined;
  onIndex(index: number | null): void;
}

/** A message's pictures, one at a time, large: arrows step between them, Escape or Close closes (focus goes back to the preview). */
function PictureViewer({ pictures, index, urlsOf, onIndex }: PictureViewerProps) {
  const open = index !== null && pictures[index] !== undefined;
  const dialog = useModalDialog(open, () => onIndex(null));
  const picture = index === null ? undefined : pictures[index];
  const urls = picture ? urlsOf(picture.id) : undefined;
  const count = pictures.length;
  const step = (by: number) => index !== null && onIndex((index + by + count) % count);
  const onKeyDown = (event: KeyboardEvent) => {
    // Escape is the dialog's own (it closes): not also the thread's around it.
    if (event.key === "Escape") event.stopPropagation();
    if (count < 2) return;
    if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
    else return;
    event.preventDefault();
  };
  return (
    <dialog {...dialog} className="dialog dialog--viewer" aria-label={picture ? `Picture ${picture.name}` : "Picture"} onKeyDown={onKeyDown}>
      {picture && (
        <div className="viewer">
          <header className="viewer__header">
            <div className="viewer__title">
              <span className="viewer__name">{picture.name}</span>
              <span className="viewer__meta">
                {picture.width} × {picture.height} · {formatBytes(picture.size)}
                {count > 1 && ` · ${(index ?? 0) + 1} of ${count}`}
              </span>
            </div>
            {urls && (
              <a className="button button--quiet viewer__download" href={urls.url} download={picture.name}>
                <DownloadIcon /> Download
              </a>
            )}
            <button type="button" className="icon-button" onClick={() => onIndex(null)} data-initial-focus>
              <CloseIcon />
              <span className="sr-only">Close</span>
            </button>
          </header>
          <div className="viewer__stage">
            {count > 1 && (
              <button type="button" className="icon-button viewer__step viewer__step--back" onClick={() => step(-1)}>
                <ChevronLeftIcon />
                <span className="sr-only">Previous picture</span>
              </button>
            )}
            {urls ? (
              <img className="viewer__image" src={urls.url} alt={picture.name} width={picture.width} height={picture.height} style={{ aspectRatio: `${picture.width} / ${picture.height}` }} />
            ) : (
              <span className="spinner" aria-hidden="true" />
            )}
            {count > 1 && (
              <button type="button" className="icon-button viewer__step viewer__step--next" onClick={() => step(1)}>
                <ChevronRightIcon />
                <span className="sr-only">Next picture</span>
              </button>
            )}
          </div>
        </div>
      )}
    </dialog>
  );
}
