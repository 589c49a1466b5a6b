/*
 * ui_text.c - the words of `rove ui` in Chinese; English is the key.
 */
#include "ui.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef struct ui_word {
	const char *en, *zh;
} ui_word;

/* Sorted by nothing: a page uses a few dozen, looked up in a few µs. */
static const ui_word words[] = {
	{"Today", "今日"},
	{"Customers", "客户"},
	{"Deals", "商机"},
	{"Reports", "报表"},
	{"Sync", "同步"},
	{"Admin", "管理"},
	{"Sync now", "立即同步"},
	{"Search", "搜索"},
	{"Search customers", "搜索客户"},
	{"All", "全部"},
	{"Mine", "我的"},
	{"Pool", "公海"},
	{"Territory", "区域"},
	{"Tier", "等级"},
	{"Owner", "负责人"},
	{"Sort by", "排序"},
	{"Descending", "降序"},
	{"Previous", "上一页"},
	{"Next", "下一页"},
	{"Page", "页"},
	{"No records.", "没有记录。"},
	{"Details", "详情"},
	{"Contacts", "联系人"},
	{"Contracts", "合同"},
	{"Activities", "跟进记录"},
	{"Ownership history", "归属历史"},
	{"Add an activity", "添加跟进"},
	{"Kind", "类型"},
	{"Note", "备注"},
	{"Location (optional)", "地点（可选）"},
	{"Save", "保存"},
	{"Claim", "认领"},
	{"Release", "释放"},
	{"Reason", "原因"},
	{"Export CSV", "导出 CSV"},
	{"Open pipeline", "在途商机"},
	{"Open pipeline by stage", "各阶段在途商机"},
	{"Reps against targets", "销售目标完成情况"},
	{"Daily activity", "每日动态"},
	{"Rep", "销售"},
	{"Target", "目标"},
	{"Won", "赢单金额"},
	{"Reached", "完成率"},
	{"Amount", "金额"},
	{"Total", "合计"},
	{"No targets for this month.", "本月没有目标。"},
	{"Date", "日期"},
	{"New customers", "新客户"},
	{"Month of the targets", "目标月份"},
	{"From", "从"},
	{"To", "到"},
	{"Show", "显示"},
	{"invalid", "无效的"},
	{"The range is too long.", "日期范围太长。"},
	{"Stage", "阶段"},
	{"Move", "变更"},
	{"Saved; sent on the next sync.", "已保存，下次同步时发送。"},
	{"Not saved", "未保存"},
	{"Offline: the server cannot be reached. Your changes are kept.", "离线：无法连接服务器。您的更改已保留。"},
	{"Last sync", "上次同步"},
	{"never", "从未"},
	{"Pending changes", "待同步的更改"},
	{"Refused changes", "被拒绝的更改"},
	{"Retry", "重试"},
	{"Dismiss", "忽略"},
	{"Pushed", "已推送"},
	{"accepted", "已接受"},
	{"refused", "被拒绝"},
	{"pulled", "已拉取"},
	{"My notices", "我的提醒"},
	{"Deals expected to close this month", "本月预计成交的商机"},
	{"Recent activities", "最近跟进"},
	{"Language", "语言"},
	{"User", "用户"},
	{"Role", "角色"},
	{"none", "无"},
	{"Customer", "客户"},
	{"Refused", "拒绝时间"},
	{"Change", "更改"},
	{"Pipeline", "销售漏斗"},
	{"Targets", "目标"},
	{"Daily", "每日趋势"},
	{"Download CSV", "下载 CSV"},
	{"Not found", "未找到"},
	{"Forbidden", "禁止访问"},
	/* field names */
	{"name", "名称"},
	{"tax_id", "统一社会信用代码"},
	{"phone", "电话"},
	{"address", "地址"},
	{"tier", "等级"},
	{"territory", "区域"},
	{"owner", "负责人"},
	{"dealer", "经销商"},
	{"last_activity_at", "最近跟进"},
	{"created_at", "创建时间"},
	{"email", "邮箱"},
	{"title", "标题"},
	{"number", "编号"},
	{"amount", "金额"},
	{"signed_on", "签订日期"},
	{"status", "状态"},
	{"stage", "阶段"},
	{"expected_close", "预计成交"},
	{"closed_on", "成交日期"},
	{"kind", "类型"},
	{"at", "时间"},
	{"note", "备注"},
	{"location", "地点"},
	{"author", "作者"},
	{"event", "事件"},
	{"from", "原负责人"},
	{"to", "新负责人"},
	{"by", "操作人"},
	{"reason", "原因"},
	{"text", "内容"},
	{"customer", "客户"},
	/* values */
	{"visit", "拜访"},
	{"call", "电话"},
	{"lead", "线索"},
	{"qualified", "已确认"},
	{"proposal", "方案"},
	{"negotiation", "谈判"},
	{"won", "赢单"},
	{"lost", "输单"},
	{"prospect", "潜在"},
	{"loyal", "忠实"},
};

const char *ui_t(int lang, const char *key)
{
	if (lang != UI_ZH)
		return key;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].en, key) == 0)
			return words[i].zh;
	return key;
}

int ui_lang_from_header(const char *accept)
{
	/* The first language named wins (browsers list them by preference). */
	if (accept == NULL)
		return UI_EN;
	while (*accept == ' ')
		accept++;
	return strncasecmp(accept, "zh", 2) == 0 ? UI_ZH : UI_EN;
}
