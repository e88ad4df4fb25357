/* scope.h: nodes and services for top and stuck. */
#include "scope.h"

#include <stdlib.h>
#include <string.h>

int scope_open(struct scope *sc, const char *spec, const struct config *cfg, int cfg_loaded,
	       const char *cfg_file, const struct session_opts *o, int names_ok, struct err *e)
{
	memset(sc, 0, sizeof *sc);
	if (spec) {
		if (target_parse(spec, &sc->tl, e) != 0)
			return -1;
		sc->has_target = 1;
		for (size_t i = 0; !names_ok && i < sc->tl.n; i++)
			if (sc->tl.v[i].kind == TARGET_NAME)
				return err_set(e, ERR_USAGE,
					       "%s: a registered name cannot be told from stat rows; "
					       "give its address (:a) or launch name (@name)",
					       sc->tl.v[i].orig);
	}
	const struct target_list *tl = spec ? &sc->tl : NULL;
	if (!cfg_loaded && session_needs_config(o, tl)) {
		if (config_load(cfg_file, &sc->config, e) != 0)
			return -1;
		cfg = &sc->config;
	}
	return session_select(&sc->sess, cfg, o, tl, e);
}

void scope_close(struct scope *sc)
{
	target_list_free(&sc->tl);
	session_free(&sc->sess);
	config_free(&sc->config);
	memset(sc, 0, sizeof *sc);
}

static int scope_applies(const struct target_sel *sel, void *ud)
{
	return session_applies(sel, ud);
}

int scope_resolve(const struct scope *sc, size_t i, const struct target_service *svc,
		  size_t nsvc, struct target **t, size_t *nt)
{
	struct err e;
	/* target_resolve only reads the list; it is not declared const */
	return target_resolve((struct target_list *)&sc->tl, scope_applies, &sc->sess.v[i], svc,
			      nsvc, t, nt, NULL, &e);
}

static int scope_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int scope_select(const struct scope *sc, size_t i, const struct sample *s, uint32_t **keep,
		 size_t *n)
{
	struct target_service *svc = malloc((s->n + 1) * sizeof *svc);
	struct target *t = NULL;
	size_t nt = 0;
	*keep = NULL;
	*n = 0;
	if (!svc)
		return -1;
	for (size_t k = 0; k < s->n; k++) {
		svc[k].addr = s->rows[k].addr;
		svc[k].cmd = (char *)sample_name(s, &s->rows[k]);
	}
	int rc = scope_resolve(sc, i, svc, s->n, &t, &nt);
	free(svc);
	if (rc != 0)
		return -1;
	*keep = malloc((nt + 1) * sizeof **keep);
	for (size_t k = 0; *keep && k < nt; k++)
		(*keep)[k] = t[k].addr;
	free(t);
	if (!*keep)
		return -1;
	*n = nt;
	qsort(*keep, nt, sizeof **keep, scope_cmp);
	return 0;
}
