//! A generational slab: stable keys that never alias a removed entry.

/// A key into a [`Slab`]: a slot and the generation it was issued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl Key {
    pub(crate) fn to_u64(self) -> u64 {
        u64::from(self.slot) << 32 | u64::from(self.generation)
    }

    #[cfg(test)]
    pub(crate) fn from_u64(v: u64) -> Self {
        Self {
            slot: (v >> 32) as u32,
            generation: v as u32,
        }
    }
}

#[derive(Debug)]
struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

/// Values addressed by [`Key`]s; a removed value's key is dead forever (until
/// the 32-bit generation of its slot wraps).
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    pub(crate) fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.entries[slot as usize];
            entry.generation = entry.generation.wrapping_add(1);
            entry.value = Some(value);
            Key {
                slot,
                generation: entry.generation,
            }
        } else {
            let slot = u32::try_from(self.entries.len()).expect("fewer than 2^32 entries");
            self.entries.push(Entry {
                generation: 0,
                value: Some(value),
            });
            Key {
                slot,
                generation: 0,
            }
        }
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.entries
            .get(key.slot as usize)
            .filter(|e| e.generation == key.generation)
            .and_then(|e| e.value.as_ref())
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.entries
            .get_mut(key.slot as usize)
            .filter(|e| e.generation == key.generation)
            .and_then(|e| e.value.as_mut())
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self
            .entries
            .get_mut(key.slot as usize)
            .filter(|e| e.generation == key.generation)?;
        let value = entry.value.take()?;
        self.free.push(key.slot);
        self.len -= 1;
        Some(value)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.entries.iter().enumerate().filter_map(|(slot, e)| {
            e.value.as_ref().map(|_| Key {
                slot: slot as u32,
                generation: e.generation,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_key_never_reaches_the_value_that_reuses_its_slot() {
        let mut slab = Slab::default();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a.slot, b.slot);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.len(), 1);
        assert_eq!(Key::from_u64(b.to_u64()), b);
    }
}
