package stores

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"sealfleet/storiface"
)

// StorageConfig is the content of a node's storage.json: the storage paths it opens at start.
type StorageConfig struct {
	StoragePaths []LocalPath
}

// LocalPath is one entry of storage.json.
type LocalPath struct {
	Path string
}

// LocalStorage is what Local needs from the node: its list of paths and filesystem figures. Implementations must
// be safe for concurrent use.
type LocalStorage interface {
	// GetStorage returns the node's storage.json.
	GetStorage() (StorageConfig, error)
	// SetStorage changes storage.json with f and persists it atomically.
	SetStorage(f func(*StorageConfig)) error
	// Stat returns the filesystem capacity and free bytes of the filesystem holding path (Capacity, Available).
	Stat(path string) (storiface.FsStat, error)
	// DiskUsage returns the bytes allocated on disk to a file or directory tree; os.ErrNotExist if it is absent.
	DiskUsage(path string) (int64, error)
}

// FileLocalStorage is the LocalStorage of a real node: storage.json at a file name, statfs and block counts.
type FileLocalStorage struct {
	// ConfigPath is the storage.json file.
	ConfigPath string

	mu sync.Mutex
}

var _ LocalStorage = (*FileLocalStorage)(nil)

// NewFileLocalStorage returns a LocalStorage whose list of paths is kept in the file configPath.
func NewFileLocalStorage(configPath string) *FileLocalStorage {
	return &FileLocalStorage{ConfigPath: configPath}
}

// GetStorage reads storage.json; a missing file is an empty list.
func (s *FileLocalStorage) GetStorage() (StorageConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

func (s *FileLocalStorage) read() (StorageConfig, error) {
	var c StorageConfig
	b, err := os.ReadFile(s.ConfigPath)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading %s: %w", s.ConfigPath, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parsing %s: %w", s.ConfigPath, err)
	}
	return c, nil
}

// SetStorage applies f to storage.json and writes it back through a temporary file.
func (s *FileLocalStorage) SetStorage(f func(*StorageConfig)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.read()
	if err != nil {
		return err
	}
	f(&c)
	if err := os.MkdirAll(filepath.Dir(s.ConfigPath), 0o755); err != nil {
		return fmt.Errorf("creating directory of %s: %w", s.ConfigPath, err)
	}
	return writeJSONAtomic(s.ConfigPath, c)
}

// Stat returns the capacity and free space of the filesystem holding path, from statfs.
func (s *FileLocalStorage) Stat(path string) (storiface.FsStat, error) {
	return StatFS(path)
}

// DiskUsage returns the on-disk bytes of path.
func (s *FileLocalStorage) DiskUsage(path string) (int64, error) {
	return DiskUsage(path)
}

// StatFS returns Capacity and Available (for unprivileged users) of the filesystem holding path.
func StatFS(path string) (storiface.FsStat, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return storiface.FsStat{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bsize := int64(st.Bsize) //nolint:unconvert // Bsize's type differs across platforms
	avail := int64(st.Bavail) * bsize
	return storiface.FsStat{Capacity: int64(st.Blocks) * bsize, Available: avail, FSAvailable: avail}, nil
}

// DiskUsage sums the allocated blocks of a file or of every file under a directory (sparse files count what they
// really occupy). Entries that vanish during the walk are skipped.
func DiskUsage(path string) (int64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return allocated(fi), nil
	}
	var total int64
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		total += allocated(info)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("disk usage of %s: %w", path, err)
	}
	return total, nil
}

// allocated returns the bytes a file occupies on disk (512-byte blocks), or its size if unknown.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
