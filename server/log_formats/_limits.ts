/**
 * Length limits shared by the parsers. Each bounds how far a scanner looks,
 * so that no 64 KiB line costs more than a short one for these fields.
 *
 * @module
 */

/**
 * Longest hostname accepted (RFC 5424 §6.2.4; also the DNS limit for a full
 * name). A longer token is not a hostname: RFC 5424 rejects the line, the
 * other formats read the token as message text.
 */
export const MAX_HOSTNAME_CHARS = 255;

/**
 * Longest tag token read, colon and `[pid]` included. RFC 3164 allows 32
 * characters; journald identifiers run longer (`org.gnome.Shell.desktop[1234]:`).
 * A longer token is not a tag.
 */
export const MAX_TAG_CHARS = 128;
