/* The lookup structures of the language data: a vocabulary that gives
 * every known word an id, its lexicon flags and its number value in one
 * hash lookup, and the phrase table as a trie over word ids, so that the
 * extractor finds every phrase that starts at a token in one walk. */
#include <stdlib.h>
#include <string.h>

#include "nlu/ent_lang.h"

/* FNV-1a, 64 bits, as the lexicon and the phrase table hash. */
static uint64_t hash_word(const char *s, size_t len)
{
    return nlu_word_hash(s, len);
}

uint32_t ent_word_find(const nlu_lang_t *lang, const char *s, size_t len)
{
    return ent_word_find_hashed(lang, s, len, hash_word(s, len));
}

uint32_t ent_word_find_hashed(const nlu_lang_t *lang, const char *s, size_t len,
                              uint64_t h)
{
    if (lang->vocab_slot_cap == 0)
        return ENT_NO_ID;
    uint32_t mask = lang->vocab_slot_cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint32_t id = lang->vocab_slots[i];
        if (id == ENT_NO_ID)
            return ENT_NO_ID;
        const ent_word_t *w = &lang->vocab[id];
        if (w->hash == h && w->len == len && memcmp(w->text, s, len) == 0)
            return id;
    }
}

static void vocab_slot_insert(uint32_t *slots, uint32_t cap, uint64_t h,
                              uint32_t id)
{
    uint32_t mask = cap - 1;
    uint32_t i = (uint32_t)h & mask;
    while (slots[i] != ENT_NO_ID)
        i = (i + 1) & mask;
    slots[i] = id;
}

/* Grows the vocabulary and its hash table for one more word. Returns 0
 * or -1. */
static int vocab_reserve(nlu_lang_t *lang)
{
    if (lang->vocab_count == lang->vocab_cap) {
        uint32_t cap = lang->vocab_cap ? lang->vocab_cap * 2 : 1024;
        ent_word_t *grown = realloc(lang->vocab, cap * sizeof *grown);
        if (!grown)
            return -1;
        lang->vocab = grown;
        lang->vocab_cap = cap;
    }
    if ((lang->vocab_count + 1) * 2 <= lang->vocab_slot_cap)
        return 0;
    uint32_t cap = lang->vocab_slot_cap ? lang->vocab_slot_cap * 2 : 2048;
    uint32_t *slots = malloc(cap * sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < cap; i++)
        slots[i] = ENT_NO_ID;
    for (uint32_t id = 0; id < lang->vocab_count; id++)
        vocab_slot_insert(slots, cap, lang->vocab[id].hash, id);
    free(lang->vocab_slots);
    lang->vocab_slots = slots;
    lang->vocab_slot_cap = cap;
    return 0;
}

/* Returns the id of a folded word, adding it with no flags when it is
 * new; the vocabulary owns a copy. Returns ENT_NO_ID when out of
 * memory. */
static uint32_t vocab_intern(nlu_lang_t *lang, const char *folded)
{
    size_t len = strlen(folded);
    uint32_t id = ent_word_find(lang, folded, len);
    if (id != ENT_NO_ID)
        return id;
    if (vocab_reserve(lang) != 0)
        return ENT_NO_ID;
    char *copy = strdup(folded);
    if (!copy)
        return ENT_NO_ID;
    id = lang->vocab_count++;
    ent_word_t *w = &lang->vocab[id];
    memset(w, 0, sizeof *w);
    w->text = copy;
    w->hash = hash_word(folded, len);
    w->len = (uint32_t)len;
    vocab_slot_insert(lang->vocab_slots, lang->vocab_slot_cap, w->hash, id);
    return id;
}

int ent_lang_add_word(nlu_lang_t *lang, const char *folded, int flag)
{
    nlu_lexicon_t *lexicon =
        flag == ENT_WORD_PLACE ? lang->places : lang->words;
    if (folded[0] == '\0')
        return 0;
    if (nlu_lexicon_add(lexicon, folded) != 0)
        return -1;
    uint32_t id = vocab_intern(lang, folded);
    if (id == ENT_NO_ID)
        return -1;
    lang->vocab[id].flags |= flag;
    return 0;
}

/* ---- the phrase trie ----------------------------------------------------- */

static uint32_t edge_hash(uint32_t parent, uint32_t word)
{
    uint64_t h = ((uint64_t)parent << 32 | word) * 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32);
}

uint32_t ent_node_child(const nlu_lang_t *lang, uint32_t node, uint32_t word)
{
    if (lang->edge_cap == 0 || word == ENT_NO_ID)
        return ENT_NO_ID;
    uint32_t mask = lang->edge_cap - 1;
    for (uint32_t i = edge_hash(node, word) & mask;; i = (i + 1) & mask) {
        const ent_edge_t *e = &lang->edges[i];
        if (e->child == ENT_NO_ID)
            return ENT_NO_ID;
        if (e->parent == node && e->word == word)
            return e->child;
    }
}

/* Returns the child of `node` along `word`, adding it when missing. The
 * edge table is sized beforehand for every edge. */
static uint32_t node_child_add(nlu_lang_t *lang, uint32_t node, uint32_t word)
{
    uint32_t mask = lang->edge_cap - 1;
    uint32_t i = edge_hash(node, word) & mask;
    for (;; i = (i + 1) & mask) {
        ent_edge_t *e = &lang->edges[i];
        if (e->child == ENT_NO_ID)
            break;
        if (e->parent == node && e->word == word)
            return e->child;
    }
    uint32_t child = lang->node_count++;
    lang->edges[i] = (ent_edge_t){node, word, child};
    lang->nodes[child] = (ent_node_t){0, 0};
    return child;
}

/* Walks (and grows) the trie along the words of `key`, which are joined
 * with single spaces, and returns the last node, or ENT_NO_ID when out of
 * memory. */
static uint32_t key_node(nlu_lang_t *lang, const char *key)
{
    char word[ENT_KEY_MAX];
    uint32_t node = 0;
    while (*key) {
        size_t len = strcspn(key, " ");
        if (len > 0 && len < sizeof word) {
            memcpy(word, key, len);
            word[len] = '\0';
            uint32_t id = vocab_intern(lang, word);
            if (id == ENT_NO_ID)
                return ENT_NO_ID;
            node = node_child_add(lang, node, id);
        }
        key += len;
        while (*key == ' ')
            key++;
    }
    return node;
}

/* Builds the trie: every item hangs at the node of its key, and each
 * node lists its items newest first, the order in which the phrase
 * table's bucket chains run. */
static int build_trie(nlu_lang_t *lang)
{
    size_t words = 0;
    for (size_t i = 0; i < lang->item_count; i++)
        for (const char *c = lang->items[i].key; *c; c++)
            words += *c == ' ';
    words += lang->item_count; /* at most one node per word of a key */

    uint32_t cap = 1024;
    while (cap < words * 2)
        cap *= 2;
    lang->edges = malloc(cap * sizeof *lang->edges);
    lang->nodes = malloc((words + 1) * sizeof *lang->nodes);
    uint32_t *item_node = malloc((lang->item_count + 1) * sizeof *item_node);
    lang->node_items = malloc((lang->item_count + 1) * sizeof(uint32_t));
    if (!lang->edges || !lang->nodes || !item_node || !lang->node_items) {
        free(item_node);
        return -1;
    }
    lang->edge_cap = cap;
    for (uint32_t i = 0; i < cap; i++)
        lang->edges[i].child = ENT_NO_ID;
    lang->nodes[0] = (ent_node_t){0, 0};
    lang->node_count = 1;

    for (size_t i = 0; i < lang->item_count; i++) {
        item_node[i] = key_node(lang, lang->items[i].key);
        if (item_node[i] == ENT_NO_ID) {
            free(item_node);
            return -1;
        }
        lang->nodes[item_node[i]].item_count++;
    }
    uint32_t at = 0;
    for (uint32_t n = 0; n < lang->node_count; n++) {
        lang->nodes[n].first_item = at;
        at += lang->nodes[n].item_count;
        lang->nodes[n].item_count = 0;
    }
    for (size_t i = lang->item_count; i-- > 0;) {
        ent_node_t *node = &lang->nodes[item_node[i]];
        lang->node_items[node->first_item + node->item_count++] = (uint32_t)i;
    }
    free(item_node);
    return 0;
}

/* Records the first two bytes of every number word. */
static void index_number_words(nlu_lang_t *lang)
{
    memset(lang->number_first, 0, sizeof lang->number_first);
    memset(lang->number_pairs, 0, sizeof lang->number_pairs);
    for (size_t i = 0; i < lang->number_count; i++) {
        const unsigned char *k = (const unsigned char *)lang->numbers[i].key;
        if (k[0] == '\0')
            continue;
        if (k[1] == '\0')
            lang->number_first[k[0]] = 1;
        else
            lang->number_pairs[k[0]][k[1] >> 6] |= 1ULL << (k[1] & 63);
    }
}

int ent_maybe_number_word(const nlu_lang_t *lang, const char *folded)
{
    const unsigned char *s = (const unsigned char *)folded;
    if (s[0] == '\0')
        return 0;
    if (lang->number_first[s[0]])
        return 1;
    return s[1] != '\0' &&
           (lang->number_pairs[s[0]][s[1] >> 6] >> (s[1] & 63) & 1);
}

int ent_lang_index(nlu_lang_t *lang)
{
    index_number_words(lang);
    if (build_trie(lang) != 0)
        return -1;
    for (uint32_t id = 0; id < lang->vocab_count; id++) {
        ent_word_t *w = &lang->vocab[id];
        if (ent_number_word(lang, w->text, &w->number))
            w->flags |= ENT_WORD_NUMBER;
        if (ent_node_child(lang, 0, id) != ENT_NO_ID)
            w->flags |= ENT_WORD_STARTS;
    }
    return 0;
}

/* Frees the vocabulary and the trie; accepts a partly built index. */
void ent_lang_index_free(nlu_lang_t *lang)
{
    for (uint32_t id = 0; id < lang->vocab_count; id++)
        free(lang->vocab[id].text);
    free(lang->vocab);
    free(lang->vocab_slots);
    free(lang->nodes);
    free(lang->edges);
    free(lang->node_items);
    free(lang->memo);
    free(lang->memo_text);
    nlu_word_memo_free(lang->unknown);
}

const ent_memo_t *ent_memo_find(const nlu_lang_t *lang, const char *s,
                                size_t len)
{
    return ent_memo_find_hashed(lang, s, len, hash_word(s, len));
}

const ent_memo_t *ent_memo_find_hashed(const nlu_lang_t *lang, const char *s,
                                       size_t len, uint64_t h)
{
    if (lang->memo_cap == 0)
        return NULL;
    uint32_t mask = lang->memo_cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        const ent_memo_t *m = &lang->memo[i];
        if (!m->text)
            return NULL;
        if (m->hash == h && m->len == len && memcmp(m->text, s, len) == 0)
            return m;
    }
}

/* Returns the free slot for hash h in the memo table. */
static ent_memo_t *memo_slot(nlu_lang_t *lang, uint64_t h)
{
    uint32_t mask = lang->memo_cap - 1;
    uint32_t i = (uint32_t)h & mask;
    while (lang->memo[i].text)
        i = (i + 1) & mask;
    return &lang->memo[i];
}

int ent_memo_reserve(nlu_lang_t *lang, size_t words, size_t bytes)
{
    uint32_t cap = 16;
    while (cap < words * 2)
        cap *= 2;
    lang->memo = calloc(cap, sizeof *lang->memo);
    lang->memo_text = malloc(bytes ? bytes : 1);
    if (!lang->memo || !lang->memo_text) {
        free(lang->memo);
        free(lang->memo_text);
        lang->memo = NULL;
        lang->memo_text = NULL;
        return -1;
    }
    lang->memo_cap = cap;
    return 0;
}

ent_memo_t *ent_memo_add(nlu_lang_t *lang, const char *word, char *copy)
{
    size_t len = strlen(word);
    if (ent_memo_find(lang, word, len))
        return NULL;
    memcpy(copy, word, len + 1);
    uint64_t h = hash_word(word, len);
    ent_memo_t *m = memo_slot(lang, h);
    m->text = copy;
    m->hash = h;
    m->len = (uint32_t)len;
    return m;
}
