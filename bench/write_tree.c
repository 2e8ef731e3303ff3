/* Writes a directory tree into a CIM through the C ABI only (the write path a runtime uses):
 *   write_tree SRC_DIR OUT_DIR NAME            standard CIM OUT_DIR/NAME
 *   write_tree SRC_DIR BLOCK_FILE NAME block   single-file block CIM
 * Regular files and directories only; data is copied in 1 MiB writes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <opencim/cimfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static CIMFS_IMAGE_HANDLE img;
static char buf[1 << 20];

static void die(const char *what) {
    fprintf(stderr, "write_tree: %s: %s\n", what, CimGetLastErrorMessage());
    exit(1);
}

static void walk(const char *src, const char *rel) {
    DIR *d = opendir(src);
    if (!d) { perror(src); exit(1); }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[4096], child[4096];
        snprintf(path, sizeof path, "%s/%s", src, e->d_name);
        snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        struct stat st;
        if (lstat(path, &st)) { perror(path); exit(1); }
        CIMFS_FILE_METADATA md = {0};
        md.LastWriteTime = (int64_t)st.st_mtim.tv_sec * 10000000 + st.st_mtim.tv_nsec / 100 + 116444736000000000LL;
        md.CreationTime = md.ChangeTime = md.LastAccessTime = md.LastWriteTime;
        CIMFS_STREAM_HANDLE s = NULL;
        if (S_ISDIR(st.st_mode)) {
            md.Attributes = 0x10;
            if (CimCreateFile(img, child, &md, &s) < 0) die(child);
            CimCloseStream(s);
            walk(path, child);
        } else if (S_ISREG(st.st_mode)) {
            md.Attributes = 0x20;
            md.FileSize = st.st_size;
            if (CimCreateFile(img, child, &md, &s) < 0) die(child);
            int fd = open(path, O_RDONLY);
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0)
                if (CimWriteStream(s, buf, (uint32_t)n) < 0) die(child);
            close(fd);
            if (CimCloseStream(s) < 0) die(child);
        }
    }
    closedir(d);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: write_tree SRC OUT NAME [block]\n"); return 2; }
    uint32_t flags = argc > 4 ? CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM : 0;
    if (CimCreateImage2(argv[2], flags, NULL, argv[3], &img) < 0) die("create");
    walk(argv[1], "");
    if (CimCommitImage(img) < 0) die("commit");
    CimCloseImage(img);
    return 0;
}
