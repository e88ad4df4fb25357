/* A profile as a flame graph: one self-contained SVG file, drawn the way
 * flamegraph.pl draws them (the root at the bottom, a frame's width its
 * share of the samples, warm colours by name), with a small script for
 * what a browser adds: details on hover (and a title per frame), click to
 * zoom, "Reset Zoom", and "Search" (a regular expression; matches turn
 * magenta and their share is shown). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

#define SVG_W 1200	/* image width */
#define SVG_PAD 10	/* left and right margins */
#define SVG_FH 16	/* frame height */
#define SVG_TOP 40	/* title and buttons */
#define SVG_BOTTOM 24	/* details line */
#define SVG_CHARW 7.0	/* width of a character at 12px Verdana, about */
#define SVG_MAXOPEN 128	/* frames deep (profiles hold 64 plus a service) */

static const char svg_script[] =
	"var W=1180,X=10,fs=[].slice.call(document.querySelectorAll('g.f')),\n"
	"det=document.getElementById('details'),mat=document.getElementById('matched'),\n"
	"rz=document.getElementById('unzoom');\n"
	"function ry(g){return +g.firstChild.nextSibling.getAttribute('y');}\n"
	"function fit(g,x,w){var r=g.querySelector('rect'),t=g.querySelector('text'),\n"
	" n=g.getAttribute('data-n'),c=Math.floor((w-6)/7);\n"
	" r.setAttribute('x',x.toFixed(1));r.setAttribute('width',Math.max(w-0.5,0).toFixed(1));\n"
	" t.setAttribute('x',(x+3).toFixed(1));\n"
	" t.textContent=c<3?'':n.length<=c?n:n.slice(0,c-2)+'..';}\n"
	"function zoom(z){var zx=+z.getAttribute('data-x'),zw=+z.getAttribute('data-w'),zy=ry(z);\n"
	" fs.forEach(function(g){var x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),y=ry(g);\n"
	"  if(x>=zx&&x+w<=zx+zw&&y<=zy){g.style.display='';g.style.opacity=1;\n"
	"   fit(g,X+(x-zx)/zw*W,w/zw*W);}\n"
	"  else if(y>zy&&x<=zx&&x+w>=zx+zw){g.style.display='';g.style.opacity=0.5;fit(g,X,W);}\n"
	"  else g.style.display='none';});\n"
	" rz.style.opacity=1;}\n"
	"function unzoom(){zoom(fs[0]);rz.style.opacity=0;}\n"
	"function search(){var s=prompt('Search (a regular expression)','');if(s===null)return;\n"
	" var re;try{re=new RegExp(s);}catch(e){mat.textContent='bad expression';return;}\n"
	" var all=+fs[0].getAttribute('data-w'),m=[],end=-1,sum=0;\n"
	" fs.forEach(function(g){var r=g.querySelector('rect');\n"
	"  if(!r.hasAttribute('data-c'))r.setAttribute('data-c',r.getAttribute('fill'));\n"
	"  var hit=s!==''&&re.test(g.getAttribute('data-n'));\n"
	"  r.setAttribute('fill',hit?'rgb(230,0,230)':r.getAttribute('data-c'));\n"
	"  if(hit)m.push([+g.getAttribute('data-x'),+g.getAttribute('data-w')]);});\n"
	" m.sort(function(a,b){return a[0]-b[0]||b[1]-a[1];});\n"
	" m.forEach(function(a){if(a[0]>=end){sum+=a[1];end=a[0]+a[1];}});\n"
	" mat.textContent=s===''?'':'Matched: '+(100*sum/all).toFixed(1)+'%';}\n"
	"fs.forEach(function(g){\n"
	" g.onclick=function(){zoom(g);};\n"
	" g.onmouseover=function(){det.textContent=g.querySelector('title').textContent;};\n"
	" g.onmouseout=function(){det.textContent=' ';};});\n"
	"rz.onclick=unzoom;document.getElementById('search').onclick=search;\n";

/* text escaped for XML (content and attributes) */
static void svg_esc(struct fmt_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': fmt_puts(b, "&amp;"); break;
		case '<': fmt_puts(b, "&lt;"); break;
		case '>': fmt_puts(b, "&gt;"); break;
		case '"': fmt_puts(b, "&quot;"); break;
		default:
			if ((unsigned char)s[i] >= 0x20 || s[i] == '\t')
				fmt_putn(b, s + i, 1);
		}
	}
}

/* flamegraph.pl's "hot" palette, picked by a hash of the name */
static void svg_colour(const char *s, size_t len, char *buf, size_t n)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	snprintf(buf, n, "rgb(%u,%u,%u)", 205 + h % 50, (h >> 8) % 230, (h >> 16) % 55);
}

struct svg {
	struct fmt_buf *b;
	double total;
	int height;
};

/* one frame: name, its first sample and count of samples, its depth */
static void svg_frame(struct svg *g, const char *name, size_t len, long long x, long long w,
		      int depth)
{
	double px = SVG_PAD + (double)x / g->total * (SVG_W - 2 * SVG_PAD);
	double pw = (double)w / g->total * (SVG_W - 2 * SVG_PAD);
	int y = g->height - SVG_BOTTOM - (depth + 1) * SVG_FH;
	char fill[32];
	if (pw < 0.1)
		return;	/* too thin to see or click */
	svg_colour(name, len, fill, sizeof fill);
	fmt_printf(g->b, "<g class=\"f\" data-x=\"%lld\" data-w=\"%lld\" data-n=\"", x, w);
	svg_esc(g->b, name, len);
	fmt_puts(g->b, "\"><title>");
	svg_esc(g->b, name, len);
	fmt_printf(g->b, " (%lld sample%s, %.2f%%)</title>", w, w == 1 ? "" : "s",
		   100.0 * (double)w / g->total);
	fmt_printf(g->b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>",
		   px, y, pw > 0.5 ? pw - 0.5 : pw, SVG_FH - 1, fill);
	fmt_printf(g->b, "<text x=\"%.1f\" y=\"%d\">", px + 3, y + SVG_FH - 4);
	size_t fits = pw > 6 ? (size_t)((pw - 6) / SVG_CHARW) : 0;
	if (fits >= 3) {
		svg_esc(g->b, name, len <= fits ? len : fits - 2);
		if (len > fits)
			fmt_puts(g->b, "..");
	}
	fmt_puts(g->b, "</text></g>\n");
}

/* the deepest stack, in frames */
static int svg_depth(const struct profile *p)
{
	int max = 0;
	for (size_t i = 0; i < p->n; i++) {
		int d = 1;
		for (const char *s = p->v[i].frames; (s = strchr(s, ';')); s++)
			d++;
		max = d > max ? d : max;
	}
	return max < SVG_MAXOPEN ? max : SVG_MAXOPEN;
}

/* the frames, from the sorted stacks: a stack shares its first frames
 * with the one before it; the others are closed (drawn) and new ones opened */
static void svg_frames(struct svg *g, const struct profile *p)
{
	struct { const char *f; size_t len; long long x; } open[SVG_MAXOPEN];
	int nopen = 0;
	long long x = 0;
	for (size_t i = 0; i <= p->n; i++) {
		const char *s = i < p->n ? p->v[i].frames : NULL;
		int keep = 0;
		while (s && keep < nopen) {	/* frames shared with what is open */
			const char *e = strchr(s, ';');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			if (len != open[keep].len || memcmp(s, open[keep].f, len))
				break;
			keep++;
			s = e ? e + 1 : NULL;
		}
		while (nopen > keep) {
			nopen--;
			svg_frame(g, open[nopen].f, open[nopen].len, open[nopen].x, x - open[nopen].x,
				  nopen + 1);
		}
		while (s && nopen < SVG_MAXOPEN) {
			const char *e = strchr(s, ';');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			open[nopen].f = s;
			open[nopen].len = len;
			open[nopen++].x = x;
			s = e ? e + 1 : NULL;
		}
		if (i < p->n)
			x += p->v[i].count;
	}
}

void profile_svg(struct profile *p, const char *title, struct fmt_buf *b)
{
	profile_sort(p);
	struct svg g = { b, p->samples > 0 ? (double)p->samples : 1, 0 };
	g.height = SVG_TOP + (svg_depth(p) + 1) * SVG_FH + SVG_BOTTOM;
	fmt_printf(b, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		   "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "xmlns=\"http://www.w3.org/2000/svg\">\n", SVG_W, g.height, SVG_W, g.height);
	fmt_puts(b, "<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
		 "g.f text{pointer-events:none}g.f:hover rect{stroke:#000;stroke-width:0.5}"
		 ".b{cursor:pointer}#title{font-size:17px}</style>\n");
	fmt_printf(b, "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
		   "<text id=\"title\" x=\"%d\" y=\"24\" text-anchor=\"middle\">", SVG_W / 2);
	svg_esc(b, title, strlen(title));
	fmt_printf(b, "</text>\n<text id=\"unzoom\" class=\"b\" x=\"%d\" y=\"24\" "
		   "style=\"opacity:0\">Reset Zoom</text>\n"
		   "<text id=\"search\" class=\"b\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n"
		   "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		   "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"></text>\n",
		   SVG_PAD, SVG_W - SVG_PAD, SVG_PAD, g.height - 8, SVG_W - SVG_PAD, g.height - 8);
	svg_frame(&g, "all", 3, 0, p->samples, 0);
	svg_frames(&g, p);
	fmt_puts(b, "<script><![CDATA[\n");
	fmt_puts(b, svg_script);
	fmt_puts(b, "]]></script>\n</svg>\n");
}
