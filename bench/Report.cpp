// strata_bench_report RESULTS.json [PLOT.svg]: the table and the plot of a strata_stages
// run (Google Benchmark's --benchmark_out JSON). Prints, per stage, the time per run and
// the heap peak at each size, and the growth exponent k of time ~ n^k between the two
// largest sizes (1 is linear; n log n from 10,000 to 20,000 versions is about 1.07).
// Writes a log-log SVG plot of time against versions, one line per stage.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

struct Point {
  double versions = 0;
  double ms = 0;
  double heapMb = 0;
};

std::string thousands(double v) {
  std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string timeText(double ms) {
  if (ms < 1)
    return fmt::format("{:.0f} µs", ms * 1000);
  if (ms < 10)
    return fmt::format("{:.2f} ms", ms);
  if (ms < 1000)
    return fmt::format("{:.1f} ms", ms);
  return fmt::format("{:.2f} s", ms / 1000);
}

void writePlot(const std::string &path, const std::vector<std::string> &stages,
               const std::map<std::string, std::vector<Point>> &data) {
  const double width = 720, height = 440, left = 70, right = 150, top = 20, bottom = 50;
  double minX = 1e300, maxX = 0, minY = 1e300, maxY = 0;
  for (const auto &[_, points] : data)
    for (const Point &p : points) {
      minX = std::min(minX, p.versions);
      maxX = std::max(maxX, p.versions);
      minY = std::min(minY, p.ms);
      maxY = std::max(maxY, p.ms);
    }
  double lx0 = std::floor(std::log10(minX)), lx1 = std::ceil(std::log10(maxX));
  double ly0 = std::floor(std::log10(minY)), ly1 = std::ceil(std::log10(maxY));
  if (lx1 == lx0)
    lx1 += 1;
  if (ly1 == ly0)
    ly1 += 1;
  auto px = [&](double x) {
    return left + (std::log10(x) - lx0) / (lx1 - lx0) * (width - left - right);
  };
  auto py = [&](double y) {
    return height - bottom - (std::log10(y) - ly0) / (ly1 - ly0) * (height - top - bottom);
  };
  const char *colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                           "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" "
      "fill=\"white\"/>\n",
      width, height);
  for (double e = lx0; e <= lx1; ++e) {
    double x = px(std::pow(10, e));
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
                       "stroke=\"#ddd\"/>\n<text x=\"{0:.1f}\" y=\"{3}\" "
                       "text-anchor=\"middle\">{4}</text>\n",
                       x, top, height - bottom, height - bottom + 16, thousands(std::pow(10, e)));
  }
  for (double e = ly0; e <= ly1; ++e) {
    double y = py(std::pow(10, e));
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" "
                       "stroke=\"#ddd\"/>\n<text x=\"{3}\" y=\"{4:.1f}\" "
                       "text-anchor=\"end\">{5}</text>\n",
                       left, y, width - right, left - 6, y + 4, timeText(std::pow(10, e)));
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">versions (log)</text>\n",
                     (left + width - right) / 2, height - 12);
  svg += fmt::format("<text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 "
                     "{})\">time per run (log)</text>\n",
                     (top + height - bottom) / 2, (top + height - bottom) / 2);
  for (size_t i = 0; i < stages.size(); ++i) {
    const char *colour = colours[i % 8];
    std::string points;
    for (const Point &p : data.at(stages[i]))
      points += fmt::format("{:.1f},{:.1f} ", px(p.versions), py(p.ms));
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
                       "points=\"{}\"/>\n",
                       colour, points);
    for (const Point &p : data.at(stages[i]))
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n",
                         px(p.versions), py(p.ms), colour);
    double ly = top + 10 + 18.0 * static_cast<double>(i);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" "
                       "stroke-width=\"2\"/><text x=\"{4}\" y=\"{5}\">{6}</text>\n",
                       width - right + 10, ly, width - right + 30, colour, width - right + 36,
                       ly + 4, stages[i]);
  }
  svg += "</svg>\n";
  std::ofstream out(path);
  out << svg;
  if (!out)
    std::cerr << "strata_bench_report: cannot write " << path << "\n";
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: strata_bench_report RESULTS.json [PLOT.svg]\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  nlohmann::json results = nlohmann::json::parse(in, nullptr, false);
  if (results.is_discarded() || !results.contains("benchmarks")) {
    std::cerr << "strata_bench_report: " << argv[1] << " is not Google Benchmark JSON\n";
    return 1;
  }
  std::vector<std::string> stages;
  std::map<std::string, std::vector<Point>> data;
  std::set<double> sizes;
  for (const nlohmann::json &b : results["benchmarks"]) {
    if (b.value("run_type", "iteration") != "iteration" || b.contains("error_occurred"))
      continue;
    std::string name = b["name"].get<std::string>();
    std::string stage = name.substr(0, name.find('/'));
    double scale = 1;
    std::string unit = b.value("time_unit", "ns");
    if (unit == "ns")
      scale = 1e-6;
    else if (unit == "us")
      scale = 1e-3;
    else if (unit == "s")
      scale = 1e3;
    Point p{b["versions"].get<double>(), b["real_time"].get<double>() * scale,
            b["peak_heap_mb"].get<double>()};
    if (!data.count(stage))
      stages.push_back(stage);
    data[stage].push_back(p);
    sizes.insert(p.versions);
  }
  std::string header = "| stage |", rule = "|---|";
  for (double n : sizes) {
    header += fmt::format(" {} versions |", thousands(n));
    rule += "---:|";
  }
  header += " growth k (t ~ n^k) |";
  rule += "---:|";
  std::cout << header << "\n" << rule << "\n";
  for (const std::string &stage : stages) {
    std::vector<Point> &points = data[stage];
    std::sort(points.begin(), points.end(),
              [](const Point &a, const Point &b) { return a.versions < b.versions; });
    std::string row = "| " + stage + " |";
    for (double n : sizes) {
      auto it = std::find_if(points.begin(), points.end(),
                             [&](const Point &p) { return p.versions == n; });
      row += it == points.end() ? " |"
                                : fmt::format(" {} / {:.1f} MB |", timeText(it->ms), it->heapMb);
    }
    if (points.size() >= 2) {
      const Point &a = points[points.size() - 2], &b = points.back();
      row += fmt::format(" {:.2f} |", std::log(b.ms / a.ms) / std::log(b.versions / a.versions));
    } else {
      row += " |";
    }
    std::cout << row << "\n";
  }
  std::cout << "\n(time per run / peak heap of one run above what was live before it)\n";
  if (argc == 3)
    writePlot(argv[2], stages, data);
  return 0;
}
